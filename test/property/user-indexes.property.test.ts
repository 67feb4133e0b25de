import { embeddedInMemory, embeddedOnDisk } from '../contract/embedded-factories.js';
import { userIndexesProperties } from './user-indexes.property.js';

userIndexesProperties(embeddedInMemory);
userIndexesProperties(embeddedOnDisk);

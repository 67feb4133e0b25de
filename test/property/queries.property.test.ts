import { embeddedInMemory, embeddedOnDisk } from '../contract/embedded-factories.js';
import { queriesProperties } from './queries.property.js';

queriesProperties(embeddedInMemory);
queriesProperties(embeddedOnDisk);

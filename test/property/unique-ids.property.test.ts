import { embeddedInMemory, embeddedOnDisk } from '../contract/embedded-factories.js';
import { uniqueIdsProperties } from './unique-ids.property.js';

uniqueIdsProperties(embeddedInMemory);
uniqueIdsProperties(embeddedOnDisk);

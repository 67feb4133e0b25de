import { embeddedInMemory, embeddedOnDisk } from '../contract/embedded-factories.js';
import { paginationProperties } from './pagination.property.js';

paginationProperties(embeddedInMemory);
paginationProperties(embeddedOnDisk);

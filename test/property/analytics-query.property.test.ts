import { embeddedInMemory, embeddedOnDisk } from '../contract/embedded-factories.js';
import { analyticsQueryProperties } from './analytics-query.property.js';

analyticsQueryProperties(embeddedInMemory);
analyticsQueryProperties(embeddedOnDisk);

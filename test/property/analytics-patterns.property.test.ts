import { embeddedInMemory, embeddedOnDisk } from '../contract/embedded-factories.js';
import { analyticsPatternProperties } from './analytics-patterns.property.js';

analyticsPatternProperties(embeddedInMemory);
analyticsPatternProperties(embeddedOnDisk);

/** A Map bounded to a size, the least recently set or used entry forgotten first (recency-map.ts). */
export { RecencyMap } from './recency-map';
export type { Forgotten } from './recency-map';

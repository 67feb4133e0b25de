/**
 * The k-th smallest of `values` (0-based), by Hoare's selection: expected linear time, where a sort
 * takes n·log n. Reorders `values` in place so that every value before index k is no larger than
 * the k-th and every one after it no smaller; NaN must not be among them.
 */
export function selectKth(values: Float64Array, k: number): number {
  let low = 0;
  let high = values.length - 1;
  while (low < high) {
    const pivot = values[(low + high) >>> 1] as number;
    let i = low;
    let j = high;
    while (i <= j) {
      while ((values[i] as number) < pivot) i++;
      while ((values[j] as number) > pivot) j--;
      if (i <= j) {
        const swap = values[i] as number;
        values[i++] = values[j] as number;
        values[j--] = swap;
      }
    }
    if (k <= j) high = j;
    else if (k >= i) low = i;
    else break;
  }
  return values[k] as number;
}

/** The smallest of values[from ..]: after selectKth(values, k), the (k + 1)-th smallest is the smallest past k. */
export function minFrom(values: Float64Array, from: number): number {
  let min = Infinity;
  for (let i = from; i < values.length; i++) if ((values[i] as number) < min) min = values[i] as number;
  return min;
}

/**
 * `compute` remembered per key, for the few keys templates repeat on every render. Keys can be built
 * from store values, so their number has no limit: past `max` entries the cache starts over.
 */
export function boundedCache<V>(max: number, compute: (key: string) => V): (key: string) => V {
  const entries = new Map<string, V>();
  return (key) => {
    let value = entries.get(key);
    if (value === undefined) {
      value = compute(key);
      if (entries.size >= max) entries.clear();
      entries.set(key, value);
    }
    return value;
  };
}

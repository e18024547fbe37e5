/**
 * A bounded memo for pure functions of a string: the webhook sees the same few image names and
 * namespaces over and over, so parsing and policy matching are done once per distinct input.
 * When full it is emptied rather than evicting one by one: the working set refills it at once,
 * and emptying costs nothing per lookup.
 */
export class Memo<V> {
  private readonly values = new Map<string, V>();

  constructor(private readonly maxEntries: number) {}

  get(key: string, compute: (key: string) => V): V {
    let value = this.values.get(key);
    if (value === undefined) {
      value = compute(key);
      if (this.values.size >= this.maxEntries) this.values.clear();
      this.values.set(key, value);
    }
    return value;
  }

  get size(): number {
    return this.values.size;
  }
}

/** Anything a processor can be connected to by name: the key-value, window and session stores. */
export interface StateStore {
  readonly name: string;
}

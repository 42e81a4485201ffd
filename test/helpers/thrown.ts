import { expect } from 'vitest';

/** What `action` throws, an instance of `kind`; a test that calls this fails where `action` returns or throws another kind. */
export function thrownBy<T extends Error>(action: () => unknown, kind: abstract new (...args: never[]) => T): T {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(kind);
    return error as T;
  }
  throw new Error(`expected a ${kind.name}`);
}

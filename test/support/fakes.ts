// Typed fakes of the services and stores a unit under test depends on: only the methods the test
// needs, each checked against the real signature.

/** The methods a test fakes of a class: each with the real method's type. */
export type FakeOf<T> = { [K in keyof T]?: T[K] extends (...args: never[]) => unknown ? T[K] : never };

/**
 * A stand-in for `T` made of the given methods. The one cast of the fakes: classes with private
 * fields (Nest services, stores) are nominal in TypeScript, so no object literal is ever a `T`;
 * a method the test did not fake throws, naming itself, instead of returning undefined.
 */
export function fake<T extends object>(methods: FakeOf<T>, name = 'fake'): T {
  return new Proxy(methods, {
    get(target, property, receiver) {
      if (property in target || typeof property === 'symbol' || property === 'then') return Reflect.get(target, property, receiver);
      return () => {
        throw new Error(`${name}.${String(property)} is not faked in this test`);
      };
    },
  }) as unknown as T;
}

// The engine's error for what a caller asked that cannot be done (bad input, a closed engine).
export class MessengerError extends Error {
  override name = 'MessengerError';
}

/** The relay could not be reached (nothing answered, or the link closed before the hello). */
export class UnreachableError extends MessengerError {
  override name = 'UnreachableError';
}

/** The relay refused what was asked (a taken name, a wrong code, a removed device). */
export class RefusedError extends MessengerError {
  override name = 'RefusedError';
}

/** A verified contact's safety number changed: nothing goes to them until the user accepts it. */
export class IdentityChangedError extends MessengerError {
  override name = 'IdentityChangedError';
}

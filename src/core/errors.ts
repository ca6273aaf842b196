// The engine's error for what a caller asked that cannot be done (bad input, a closed engine).
export class MessengerError extends Error {
  override name = 'MessengerError';
}

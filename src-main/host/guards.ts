/**
 * Process-level guards for the main process (both adapters): an exception or a rejected promise
 * that nothing handled is logged and the process keeps serving, instead of Node's default of
 * exiting. Every known path already turns its errors into replies; this is the last line, so
 * one unforeseen bug in one request cannot take every client's sessions down with it.
 */
export function installProcessGuards(
  log: (message: string, error: unknown) => void = (m, e) => console.error(`[host] ${m}`, e),
): () => void {
  const onException = (e: unknown): void => log('uncaught exception (still serving)', e);
  const onRejection = (e: unknown): void => log('unhandled promise rejection (still serving)', e);
  process.on('uncaughtException', onException);
  process.on('unhandledRejection', onRejection);
  return () => {
    process.off('uncaughtException', onException);
    process.off('unhandledRejection', onRejection);
  };
}

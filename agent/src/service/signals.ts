const SIGNALS = ['SIGTERM', 'SIGINT'] as const;

export type StopSignal = (typeof SIGNALS)[number];

/**
 * Routes SIGTERM and SIGINT to `onSignal`, and returns the function that removes exactly
 * these handlers again: the pair is always installed and removed together.
 */
export function installSignalHandlers(onSignal: (signal: StopSignal) => void): () => void {
  const handlers = SIGNALS.map((signal) => {
    const handler = () => onSignal(signal);
    process.on(signal, handler);

    return [signal, handler] as const;
  });

  return () => {
    for (const [signal, handler] of handlers) {
      process.off(signal, handler);
    }
  };
}

/**
 * A full garbage collection, then waits until the process is idle: V8 sweeps and frees array
 * buffers' backing stores on helper threads *after* gc() returns (a 462 MB v1 import's garbage
 * took ~100 ms of CPU to go), and process CPU time counts those threads — so a measurement
 * started right after gc() paid for the previous one's garbage. Waits in 50 ms steps until one
 * costs less than 1 ms of CPU (or 3 s pass). Needs --expose-gc; without it, only the wait.
 */
export async function gcSettled(): Promise<void> {
  (globalThis as { gc?: () => void }).gc?.();
  const cpu = (): number => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  };
  const until = performance.now() + 3000;
  while (performance.now() < until) {
    const c = cpu();
    await new Promise((resolve) => setTimeout(resolve, 50));
    if (cpu() - c < 1) return;
  }
}

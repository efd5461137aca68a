// CPU time by thread of this process over a measured window, from Linux's /proc/self/task (clock
// ticks of 10 ms: meaningful over windows of seconds). Node names every thread "node", so threads
// are told apart by their creation order (ascending ids): the main thread first, then V8's
// platform threads (garbage collection helpers shared by every isolate), the libuv pool, and last
// the shard workers and their LMDB write threads. Elsewhere than Linux nothing is sampled.

import { readdirSync, readFileSync } from 'node:fs';

const tickMs = 10;

/** CPU ms per thread id now, or null where /proc/self/task is not there. */
function threadCpuMs(): Map<number, number> | null {
  let tasks: string[];
  try {
    tasks = readdirSync('/proc/self/task');
  } catch {
    return null;
  }
  const spent = new Map<number, number>();
  for (const task of tasks) {
    try {
      const stat = readFileSync(`/proc/self/task/${task}/stat`, 'utf8');
      // Fields after the command name: utime and stime are the 12th and 13th.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      spent.set(Number(task), (Number(fields[11]) + Number(fields[12])) * tickMs);
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return spent;
}

/** Samples every thread's CPU time at the window's start; `perTransfer` reads the window. */
export class ThreadCpu {
  private start: Map<number, number> | null = null;

  begin(): void {
    this.start = threadCpuMs();
  }

  /** "main 1.23, then 0.10 0.12 ...; all threads 4.56" in CPU µs per transfer over the window
   * (threads under 0.01 µs left out), or null when nothing was sampled. */
  perTransfer(transfers: number): string | null {
    const start = this.start;
    const end = threadCpuMs();
    if (start === null || end === null || transfers <= 0) return null;
    const us = (ms: number): number => (ms * 1000) / transfers;
    const threads = [...end]
      .map(([id, ms]) => ({ id, us: us(ms - (start.get(id) ?? 0)) }))
      .filter((thread) => thread.us >= 0.005)
      .sort((a, b) => a.id - b.id);
    const main = threads.find((thread) => thread.id === process.pid)?.us ?? 0;
    const others = threads.filter((thread) => thread.id !== process.pid);
    const all = threads.reduce((sum, thread) => sum + thread.us, 0);
    return `main ${main.toFixed(2)}, then ${others.map((thread) => thread.us.toFixed(2)).join(' ')}; all threads ${all.toFixed(2)}`;
  }
}

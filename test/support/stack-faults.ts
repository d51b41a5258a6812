import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

/** Stops the stack's Synapse (the homeserver goes away as in an outage). */
export async function stopSynapse(): Promise<void> {
  await run('bash', ['ops/stack/synapse.sh', 'stop'], { cwd: repoRoot });
}

/** Starts it again and waits until it answers. */
export async function startSynapse(): Promise<void> {
  await run('bash', ['ops/stack/synapse.sh', 'start'], { cwd: repoRoot, timeout: 180_000 });
}

async function redisCli(...args: string[]): Promise<string> {
  return (await run('redis-cli', ['-h', '127.0.0.1', '-p', '6379', ...args])).stdout.trim();
}

/**
 * Restarts the machine's Redis without persistence: everything it held (queued and active
 * jobs, BullMQ's bookkeeping) is gone, as after a crash of a Redis that keeps nothing on disk.
 * It comes back with the same directory and log file it ran with.
 */
export async function restartRedisLosingEverything(): Promise<void> {
  const dir = (await redisCli('config', 'get', 'dir')).split('\n')[1] ?? '/var/lib/redis';
  const logfile = (await redisCli('config', 'get', 'logfile')).split('\n')[1] || '/var/log/redis/carehub.log';
  await redisCli('shutdown', 'nosave').catch(() => undefined); // the connection drops as it exits
  await run('redis-server', ['--daemonize', 'yes', '--bind', '127.0.0.1', '--port', '6379', '--save', '', '--appendonly', 'no', '--dir', dir, '--logfile', logfile]);
  for (let i = 0; i < 50; i++) {
    if ((await redisCli('ping').catch(() => '')) === 'PONG') break;
    await new Promise((r) => setTimeout(r, 100));
  }
  // BullMQ needs Redis not to evict its keys (BullMQ docs, "Going to production").
  await redisCli('config', 'set', 'maxmemory-policy', 'noeviction');
}

export async function redisIsUp(): Promise<boolean> {
  return (await redisCli('ping').catch(() => '')) === 'PONG';
}

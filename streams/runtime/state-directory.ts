import { randomUUID } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { isKafkaError } from '../../sdk/protocol/kafka-error.ts';
import { DirectoryLock } from '../../sdk/platform/directory-lock.ts';
import { type TaskId, taskIdText } from '../topology/processor.ts';
import { StreamsError, StreamsErrorCode } from './streams-error.ts';

const INSTANCE_ID_FILE = 'instance-id';

/**
 * `<stateDir>/<applicationId>/`, held by one process at a time:
 *
 *   .lock           the owner's pid (sdk/platform/directory-lock.ts)
 *   instance-id     this instance's id, one line, written once (temp file, fsync, rename)
 *   <task id>/      a task's store snapshots (streams/state/snapshot-file.ts)
 *
 * The instance id names the transactional id, so a restarted process fences its predecessor's
 * producer and aborts its open transaction at once.
 */
export class StateDirectory {
  private constructor(
    readonly path: string,
    readonly instanceId: string,
    private readonly lock: DirectoryLock,
  ) {}

  static open(stateDir: string, applicationId: string, instanceId: string | undefined): StateDirectory {
    const path = join(stateDir, applicationId);
    mkdirSync(path, { recursive: true });
    let lock: DirectoryLock;
    try {
      lock = DirectoryLock.acquire(path);
    } catch (error) {
      if (isKafkaError(error)) throw new StreamsError(StreamsErrorCode.stateDirLocked, `state directory ${path}: ${error.message}; give each instance its own stateDir`, { cause: error });
      throw error;
    }
    try {
      return new StateDirectory(path, instanceId ?? readOrCreateInstanceId(path), lock);
    } catch (error) {
      lock.release();
      throw error;
    }
  }

  /** A task's directory, created on first use. */
  taskDir(taskId: TaskId): string {
    const dir = join(this.path, taskIdText(taskId));
    mkdirSync(dir, { recursive: true });
    return dir;
  }

  close(): void {
    this.lock.release();
  }
}

function readOrCreateInstanceId(dir: string): string {
  const file = join(dir, INSTANCE_ID_FILE);
  if (existsSync(file)) {
    const id = readFileSync(file, 'utf8').trim();
    if (/^[a-zA-Z0-9._-]{1,100}$/.test(id)) return id;
    throw new StreamsError(StreamsErrorCode.invalidConfig, `${file} holds "${id.slice(0, 40)}", not an instance id; remove it to start as a new instance`);
  }
  const id = randomUUID();
  const temp = `${file}.tmp`;
  const fd = openSync(temp, 'w');
  try {
    writeSync(fd, `${id}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temp, file);
  const dirFd = openSync(dir, 'r');
  try {
    fsyncSync(dirFd);
  } finally {
    closeSync(dirFd);
  }
  return id;
}

/**
 * Enough of a ws WebSocket for the attach relay in unit tests: frames sent are
 * kept in `sent`, frames received are emitted; pause/resume are recorded so a
 * test can see backpressure.
 */
import { EventEmitter } from 'node:events';

export class FrameSocket extends EventEmitter {
  readonly OPEN = 1;
  readyState = 1;
  bufferedAmount = 0;
  isPaused = false;
  protocol = 'v5.channel.k8s.io';
  readonly sent: Buffer[] = [];
  send(data: Buffer, _opts?: object, cb?: () => void): void {
    this.sent.push(data);
    cb?.();
  }
  pause(): void {
    this.isPaused = true;
  }
  resume(): void {
    this.isPaused = false;
  }
  ping(): void {}
  terminate(): void {
    this.readyState = 3;
  }
  close(): void {
    this.readyState = 3;
  }
}

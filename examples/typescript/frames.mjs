/**
 * A websocket whose JSON frames are kept in arrival order and awaited by predicate (the
 * notifications websockets of the solver and the COH). Shared by flow.mjs and sdk_shaped.mjs.
 */
import WebSocket from "ws";

export class FrameSocket {
  /**
   * @param {string} url
   * @param {{waitMs: number, timeoutError: (what: string) => Error, connectError?: (err: Error) => Error}} how
   *   `timeoutError(what)` is what `next` rejects with after `waitMs`; `connectError(err)` what
   *   `opened` rejects with when the connection fails.
   */
  constructor(url, { waitMs, timeoutError, connectError = (err) => err }) {
    this.url = url;
    this.waitMs = waitMs;
    this.timeoutError = timeoutError;
    this.frames = [];
    this.waiters = [];
    this.socket = new WebSocket(url);
    this.socket.on("message", (raw) => {
      this.frames.push(JSON.parse(raw.toString()));
      for (const w of [...this.waiters]) w();
    });
    this.opened = new Promise((resolve, reject) => {
      this.socket.once("open", resolve);
      this.socket.once("error", (err) => reject(connectError(err)));
    });
  }

  /** The first frame (kept or still to come) that `predicate` accepts; it is taken off the queue. */
  next(what, predicate) {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(this.timeoutError(what)), this.waitMs);
      const look = () => {
        const i = this.frames.findIndex(predicate);
        if (i < 0) return;
        const [frame] = this.frames.splice(i, 1);
        clearTimeout(timer);
        this.waiters = this.waiters.filter((w) => w !== look);
        resolve(frame);
      };
      this.waiters.push(look);
      look();
    });
  }

  close() {
    this.socket.close();
  }
}

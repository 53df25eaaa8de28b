// What a Beckon process writes in answer to packets that arrived together leaves together.
//
// MQTT.js corks its socket for one packet and uncorks it on the next tick, so every PUBLISH
// and every PUBACK was its own `writev`, and each one woke the broker. With many commands in
// flight one TCP read brings tens of packets; a write per answer then cost a system call and,
// as often as not, the CPU: the woken broker preempted the writer. Holding the socket corked
// until the event loop's check phase, after every packet of that read is handled, sends those
// answers in one write. A lone packet is still answered in the same loop iteration.

/** What the batch needs of a socket (net.Socket and tls.TLSSocket both fit). */
export interface Corkable {
  cork(): void;
  uncork(): void;
}

/**
 * Holds one stream's writes until the current event-loop iteration has handled its input;
 * the agent and the client call `hold` for every inbound MQTT message.
 */
export class WriteBatch {
  #held: Corkable | undefined;

  /** Corks `stream` once per loop iteration; the matching uncork runs in `setImmediate`. */
  hold(stream: Corkable): void {
    if (this.#held === stream) {
      return;
    }

    this.#held = stream;
    stream.cork();
    setImmediate(() => {
      if (this.#held === stream) {
        this.#held = undefined;
      }

      stream.uncork();
    });
  }
}

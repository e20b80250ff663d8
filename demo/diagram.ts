/**
 * The demo's drawing: the `--trace-json` events of a client and a server, put in one order by
 * cause (a receive after the send it came from) and drawn as a two-lane sequence diagram, in a
 * terminal or as Mermaid. Previews and widths come from `shared/trace.ts`, as in `--trace`.
 *
 * @example
 * ```ts
 * import { layoutFor, orderByCause, parseEvent, renderRow } from "./diagram.ts";
 * const layout = layoutFor(80, "udp");
 * const order = orderByCause((step) => console.log(renderRow(step, layout).join("\n")));
 * order.push(parseEvent('{"time":1,"call":"socket+bind","local":"127.0.0.1:5005"}', "server"));
 * order.finish();
 * ```
 * @module
 */
import { styleText } from "node:util";
import { displayWidth, preview, type TraceEvent } from "../shared/trace.ts";

export type { TraceEvent };

/** Which lane an event is drawn in. */
export type Side = "client" | "server";

/** One `--trace-json` line of one side, its bytes decoded. */
export interface DemoEvent extends TraceEvent {
  /** Whose lane it is drawn in. */
  side: Side;
  /** The script that reported it, `udp/client`. */
  script: string;
  /** When it reported it, ms since the epoch (only to break a deadlock: causes decide). */
  time: number;
  /** When the demo read it (for the live order's patience), ms since the epoch. */
  seen: number;
}

/** An event in its place, with what crossed the wire at that moment, if anything. */
export interface Step {
  /** What happened. */
  event: DemoEvent;
  /** `wire`: bytes arrive; `lost`: never arrive; `unread`: reach a closed socket; `fin`, `syn`. */
  arrow?: "wire" | "lost" | "unread" | "fin" | "syn";
  /** For a TCP read that is not exactly one send: how it relates to the sends (framing). */
  framing?: string;
  /** For a server's log line at the terminal: its text with connections by number (`#1`). */
  note?: string;
}

/** A line of `--trace-json` (anything else becomes a log line of `side`). */
export function parseEvent(line: string, side: Side): DemoEvent {
  const seen = Date.now();
  try {
    const { data, size: _, ...event } = JSON.parse(line);
    const bytes = data === undefined ? undefined : Uint8Array.fromBase64(data);
    return { ...event, bytes, side, seen };
  } catch {
    return { call: "log", note: line, side, script: side, time: seen, seen };
  }
}

const other = (side: Side): Side => side === "client" ? "server" : "client";
/** Whether `part` is `whole`, or its start (`cut`: a datagram cut by a short receive). */
const sameBytes = (whole?: Uint8Array, part?: Uint8Array, cut = false) =>
  whole !== undefined && part !== undefined && (cut || whole.length === part.length) &&
  part.length <= whole.length && part.every((x, i) => x === whole[i]);
/** How long the live order waits for the other side to report something earlier. */
const SETTLE_MS = 40;
/** After this long, an event whose cause never showed up is drawn anyway. */
const GIVE_UP_MS = 3_000;

/** Where events go to be put in order: each side's in its own order, then both by cause. */
export type Order = {
  /** Queues an event of one side (each side's own order is kept). */
  push(event: DemoEvent): void;
  /** `side` has exited: none of its events is still to come. */
  ended(side: Side): void;
  /** Draws what is left, causes or not. */
  finish(): void;
};

/**
 * Puts events in order by cause; `onStep` gets each in turn: live, as soon as it can be drawn,
 * or else all at `finish()` (the same order, unless a live side was slow to report).
 */
export function orderByCause(onStep: (step: Step) => void, live = true): Order {
  const queues = { client: [] as DemoEvent[], server: [] as DemoEvent[] };
  const done = { client: false, server: false };
  const causes = [datagramCauses(), streamCauses()];
  // The server is stopped once the client has exited: from its listener's close on, its events
  // follow all of the client's, however early they were reported (a rule, not a clock).
  const afterEnd = new Set<DemoEvent>();
  let timer: ReturnType<typeof setTimeout> | undefined;

  const isReady = (e: DemoEvent) =>
    !(afterEnd.has(e) && (queues.client.length > 0 || !done.client)) &&
    causes.every((cause) => cause.isReady(e));

  function emit(e: DemoEvent) {
    onStep(Object.assign({ event: e }, ...causes.map((cause) => cause.drawn(e))));
  }

  /**
   * Draws each event whose cause is drawn, the server's first when both sides have one (a
   * rule, not a clock, so the same exchange is drawn the same way). Live, a client event waits
   * a moment for the server to report; an event whose cause never comes (a child died) is
   * drawn after GIVE_UP_MS, or at the end.
   */
  function drain(force = false) {
    clearTimeout(timer);
    while (true) {
      const now = Date.now();
      const heads = [queues.server[0], queues.client[0]].filter((e) => e !== undefined);
      if (heads.length === 0) break;
      let next = heads.find(isReady);
      if (!next) {
        const oldest = heads.reduce((a, b) => (b.time < a.time ? b : a));
        if (!(force || done[other(oldest.side)] || now - oldest.seen > GIVE_UP_MS)) break;
        next = oldest;
      }
      const serverMayReport = queues.server.length === 0 && !done.server;
      if (!force && next.side === "client" && serverMayReport && now - next.seen < SETTLE_MS) {
        break;
      }
      queues[next.side].shift();
      emit(next);
    }
    if (live && !force && (queues.client.length || queues.server.length)) {
      timer = setTimeout(drain, SETTLE_MS);
    }
  }

  return {
    push(event) {
      const stopping = event.side === "server" && event.call === "close" && !event.conn;
      if (stopping || afterEnd.size > 0 && event.side === "server") afterEnd.add(event);
      queues[event.side].push(event);
      for (const cause of causes) cause.seen(event);
      if (live) drain();
    },
    ended(side) {
      done[side] = true;
      if (live) drain();
    },
    finish: () => drain(true),
  };
}

/** What orders one kind of event: its causes, as they are seen and drawn. */
type Causes = {
  /** An event has been read (not drawn yet): match it with its cause. */
  seen(e: DemoEvent): void;
  /** Whether what caused `e` has been drawn. */
  isReady(e: DemoEvent): boolean;
  /** `e` is drawn now: what crossed the wire with it. */
  drawn(e: DemoEvent): Omit<Step, "event">;
};

/**
 * UDP: a `recvfrom` is drawn after the `sendto` whose bytes it read; a `sendto` once its fate is
 * known: read, dropped, or sent to a socket that has closed (never read).
 */
function datagramCauses(): Causes {
  const sends = { client: [] as DemoEvent[], server: [] as DemoEvent[] };
  const receives = { client: [] as DemoEvent[], server: [] as DemoEvent[] };
  const causeOf = new Map<DemoEvent, DemoEvent>(); // a recvfrom -> the sendto it read
  const drawn = new Set<DemoEvent>();
  const closed = new Set<string>(); // sockets closed: no later datagram is read there
  const delivered = (send: DemoEvent) => [...causeOf.values()].includes(send);
  const mirrors = (send: DemoEvent, recv: DemoEvent) =>
    send.local === recv.peer && send.peer === recv.local &&
    sameBytes(send.bytes, recv.bytes, recv.longer);
  return {
    seen(e) {
      if (e.conn || !e.bytes || (e.call !== "sendto" && e.call !== "recvfrom")) return;
      (e.call === "sendto" ? sends : receives)[e.side].push(e);
      const candidates = e.call === "recvfrom" ? sends[other(e.side)] : [e];
      const unmatched = e.call === "sendto" ? receives[other(e.side)] : [e];
      for (const recv of unmatched.filter((r) => !causeOf.has(r))) {
        const send = candidates.find((s) => mirrors(s, recv) && !delivered(s));
        if (send) causeOf.set(recv, send);
      }
    },
    isReady(e) {
      if (e.conn) return true;
      if (e.call === "sendto") return delivered(e) || closed.has(e.peer!);
      if (e.call === "recvfrom" && e.bytes) return drawn.has(causeOf.get(e)!);
      return true;
    },
    drawn(e) {
      drawn.add(e);
      if (e.call === "close" && !e.conn) closed.add(e.local!);
      if (e.call === "drop") return { arrow: "lost" };
      if (e.call !== "sendto") return {};
      return { arrow: delivered(e) ? "wire" : closed.has(e.peer!) ? "unread" : "lost" };
    },
  };
}

/**
 * TCP: an `accept` is drawn after its `connect`, a `recv` after the sends whose bytes it holds
 * (or, reading the end, after the other side's FIN); each connection is known on both sides by
 * the client's address.
 */
function streamCauses(): Causes {
  const connections = new Map<string, string>(); // "side #1" -> the client's address
  const sent = new Map<string, { offset: number; size: number }[]>(); // "side address" -> sends
  const finished = new Set<string>(); // "side address": shut down or closed
  const connects = new Set<string>(); // the client addresses whose connect is drawn
  const address = (e: DemoEvent) => connections.get(`${e.side} ${e.conn}`);
  const own = (e: DemoEvent) => `${e.side} ${address(e)}`;
  const peers = (e: DemoEvent) => `${other(e.side)} ${address(e)}`;
  const sentEnd = (key: string) =>
    Math.max(0, ...(sent.get(key) ?? []).map((s) => s.offset + s.size));

  /** How a read relates to the sends that put its bytes on the wire: TCP keeps no boundaries. */
  function framing(e: DemoEvent): string | undefined {
    const start = e.offset!, end = start + e.bytes!.length;
    const parts = (sent.get(peers(e)) ?? []).filter((s) =>
      s.offset < end && s.offset + s.size > start
    );
    const whole = parts.every((s) => s.offset >= start && s.offset + s.size <= end);
    if (parts.length === 1 && whole) return undefined;
    if (whole) return `${parts.length} sends in one read`;
    return parts.length === 1 ? "part of one send" : `parts of ${parts.length} sends`;
  }

  return {
    seen(e) {
      if (e.call === "connect") connections.set(`client ${e.conn}`, e.local!);
      if (e.call === "accept") connections.set(`server ${e.conn}`, e.peer!);
    },
    isReady(e) {
      if (e.call === "accept") return connects.has(e.peer!);
      if (e.call !== "recv") return true;
      if (!e.bytes?.length) return finished.has(peers(e));
      return sentEnd(peers(e)) >= e.offset! + e.bytes.length;
    },
    drawn(e) {
      if (e.call === "log" && e.side === "server") return { note: byNumber(e.note ?? "") };
      if (!e.conn) return {};
      if (e.call === "connect") {
        connects.add(e.local!);
        return { arrow: "syn" };
      }
      if (e.call === "send") {
        sent.set(own(e), [...(sent.get(own(e)) ?? []), {
          offset: e.offset!,
          size: e.bytes!.length,
        }]);
        return { arrow: "wire" };
      }
      if (e.call === "shutdown" || e.call === "close") {
        const first = !finished.has(own(e));
        finished.add(own(e));
        return first ? { arrow: "fin" } : {};
      }
      if (e.call === "recv" && e.bytes?.length) return { framing: framing(e) };
      return {};
    },
  };

  /** A server's log line with each connection's address as its number: said once, at accept. */
  function byNumber(note: string): string {
    for (const [key, address] of connections) {
      if (key.startsWith("server ")) note = note.replaceAll(address, key.slice("server ".length));
    }
    return note;
  }
}

/** Column widths of the terminal diagram: client text, the wire between lifelines, server. */
export interface Layout {
  /** Columns for each lane's text. */
  lane: number;
  /** Columns between the two lifelines. */
  wire: number;
  /** The lanes' names: `udp/client.ts`, `udp/server.ts`. */
  names: Record<Side, string>;
  /** Whether rows are painted (a terminal, no `NO_COLOR`). */
  colour: boolean;
}

/** The fewest columns the diagram is drawn in: on fewer, a terminal wraps its rows. */
export const NARROWEST = 60;
/** The longest word of a lane, kept on one row: no call name is split. */
const LONGEST_WORD = "shutdown(SHUT_WR)".length;

/** A layout for `columns` terminal columns, lanes named after the two scripts. */
export function layoutFor(columns: number, protocol: "udp" | "tcp", colour = false): Layout {
  // The last column wraps in some terminals; 4: " |" and "| " around the wire.
  const width = Math.max(NARROWEST, Math.min(columns, 140)) - 1;
  const lane = Math.max(LONGEST_WORD, Math.floor((width - 4) * 0.3));
  const names = { client: `${protocol}/client.ts`, server: `${protocol}/server.ts` };
  return { lane, wire: width - 4 - 2 * lane, names, colour };
}

/** The lanes' names above their lifelines. */
export function renderHeader(layout: Layout): string[] {
  return [line(layout, layout.names.client, " ".repeat(layout.wire), layout.names.server)];
}

type Colour = "green" | "cyan" | "red" | "yellow" | "dim";

/** A step as terminal lines: its call in its lane, and its arrow across, if any. */
export function renderRow(step: Step, layout: Layout): string[] {
  const { event, arrow } = step;
  const text = wrap(laneText(step, true), layout.lane);
  const colour: Colour = arrow === "lost"
    ? "red"
    : arrow === "unread"
    ? "yellow"
    : event.call === "log"
    ? "dim"
    : event.direction === "in"
    ? "cyan"
    : "green";
  const paint = (s: string) => layout.colour ? styleText(colour, s, { validateStream: false }) : s;
  let wire = " ".repeat(layout.wire);
  if (arrow) wire = drawArrow(step, layout.wire);
  const far = arrow === "unread" ? wrap("(its socket is closed: never read)", layout.lane) : [];
  const [client, server] = event.side === "client" ? [text, far] : [far, text];
  const cell = (s = "", side: Side) => (s && side === event.side ? paint(s) : s);
  return Array.from(
    { length: Math.max(client.length, server.length) },
    (_, i) => line(layout, client[i], i ? " ".repeat(layout.wire) : paint(wire), server[i], cell),
  );
}

/** One terminal line: client text right-aligned against its lifeline, the wire, server text. */
function line(
  layout: Layout,
  client = "",
  wire: string,
  server = "",
  paint = (s: string, _side: Side) => s,
): string {
  const pad = " ".repeat(Math.max(0, layout.lane - displayWidth(client)));
  return `${pad}${paint(client, "client")} |${wire}| ${paint(server, "server")}`.trimEnd();
}

/** The arrow between the lifelines: `----- 5 B "hello" ---->`, `X---- reply lost ----`. */
function drawArrow(step: Step, width: number): string {
  const { event, arrow } = step;
  const dash = arrow === "unread" ? "." : "-";
  const body = (room: number) => {
    const label = arrowLabel(step, room - 4); // a dash and a space on each side at least
    const left = Math.max(1, Math.floor((room - displayWidth(label) - 2) / 3));
    const right = Math.max(1, room - displayWidth(label) - 2 - left);
    return `${dash.repeat(left)} ${label} ${dash.repeat(right)}`;
  };
  const rightward = event.side === "client";
  if (arrow === "lost") return rightward ? `${body(width - 4)}X   ` : `   X${body(width - 4)}`;
  return rightward ? `${body(width - 1)}>` : `<${body(width - 1)}`;
}

/** What an arrow says in `room` columns: the bytes (size and preview), or the handshake or FIN. */
function arrowLabel({ event, arrow }: Step, room: number): string {
  const fit = (long: string, short: string) => displayWidth(long) <= room ? long : short;
  if (arrow === "syn") return fit("SYN, SYN-ACK, ACK", "SYN");
  if (arrow === "fin") return fit("FIN (end of stream)", "FIN");
  if (event.call === "drop") return fit("reply lost (--drop)", "lost");
  const size = `${event.bytes!.length.toLocaleString("en-US")} B`;
  return `${size} ${preview(event.bytes!, room - size.length - 1)}`;
}

/** The call in the post's words, and what it concerns; addresses only in the terminal. */
function laneText({ event: e, framing, note }: Step, addresses: boolean): string {
  const at = (address?: string) => addresses && address ? ` ${address}` : "";
  const bytes = (room: number) => e.bytes ? ` ${preview(e.bytes, room)}` : "";
  const size = e.bytes ? ` ${e.bytes.length.toLocaleString("en-US")} B` : "";
  switch (e.call) {
    case "socket+bind":
      return `socket + bind${at(e.local)}`;
    case "bind+listen":
      return `socket + bind + listen${at(e.local)}`;
    case "connect":
      return `socket + connect${at(e.local)}`;
    case "accept":
      return `accept: new socket ${e.conn}${at(e.peer)}`;
    case "recvfrom":
      if (!e.bytes) return `recvfrom: ${e.note}`;
      return `recvfrom${size}${e.longer ? " (the datagram was longer: cut)" : ""}`;
    case "hold":
      return `hold${size}${bytes(24)} for the next read`;
    case "recv":
      if (!e.bytes?.length) return `recv 0 B: ${e.note?.replace(/^\((.*)\)$/, "$1")}`;
      return `recv${size}${bytes(24)}${framing ? ` (${framing})` : ""}`;
    case "shutdown":
      return "shutdown(SHUT_WR)";
    case "close":
      return `close${e.conn ? ` ${e.conn}` : ""}`;
    case "input":
    case "print":
      return `${e.call}${bytes(24)}`;
    case "log":
      return (addresses ? note : undefined) ?? e.note ?? "";
    case "sendto":
    case "send":
      return e.call;
    case "drop":
      return "drop: not sent (--drop)";
    case "duplicate":
      return "duplicate: sent twice (--duplicate)";
    default:
      return unknownCall(e.call);
  }
}

/** No call is left out of the switch above (a type error here names the one that is). */
function unknownCall(call: never): string {
  return call;
}

/** `text` in lines of at most `width` columns, broken between words where it can be. */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let current = "";
  for (const word of text.split(" ")) {
    const joined = current ? `${current} ${word}` : word;
    if (displayWidth(joined) <= width || !current) current = joined;
    else lines.push(current), current = word;
    while (displayWidth(current) > width) {
      let cut = 0, columns = 0;
      for (const c of current) {
        if ((columns += displayWidth(c)) > width) break;
        cut += c.length;
      }
      lines.push(current.slice(0, cut));
      current = current.slice(cut);
    }
  }
  return [...lines, current];
}

/**
 * The steps as a Mermaid `sequenceDiagram`: the same for the same exchange, so no ports, no
 * times; addresses in log lines become `client` and `server` (`serverAddress` names the latter).
 */
export function toMermaid(steps: Step[], layout: Layout, serverAddress: string): string {
  const who = { client: "C", server: "S" };
  const out = [
    "sequenceDiagram",
    `    participant C as ${layout.names.client}`,
    `    participant S as ${layout.names.server}`,
  ];
  for (const step of steps) {
    const { side, call } = step.event;
    const [from, to] = [who[side], who[other(side)]];
    const text = laneText(step, false).replace(
      /\[[0-9a-f:.]+\]:\d+|\b\d{1,3}(\.\d{1,3}){3}:\d+\b/gi,
      (address) => address === serverAddress ? "server" : "client",
    );
    const label = step.arrow && escapeMermaid(
      step.arrow === "syn"
        ? "connect (SYN, SYN-ACK, ACK)"
        : call === "drop"
        ? arrowLabel(step, Infinity)
        : step.arrow === "fin"
        ? `${text} (FIN: end of stream)`
        : `${call} ${arrowLabel(step, 40)}${step.arrow === "unread" ? " (never read)" : ""}`,
    );
    const line = { lost: "-x", unread: "--)", fin: "-)", syn: "->>", wire: "->>" };
    if (step.arrow) out.push(`    ${from}${line[step.arrow]}${to}: ${label}`);
    if (!step.arrow) out.push(`    Note over ${from}: ${escapeMermaid(text)}`);
  }
  return out.join("\n") + "\n";
}

/** Mermaid reads `;`, `#`, quotes and angle brackets itself: entity codes (`#35;`) instead. */
export function escapeMermaid(text: string): string {
  return text.replace(/[#;"<>]/g, (c) => `#${c.charCodeAt(0)};`);
}

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
}

/** A line of `--trace-json` (anything else becomes a log line of `side`). */
export function parseEvent(line: string, side: Side): DemoEvent {
  const seen = Date.now();
  try {
    const { data, size: _, ...event } = JSON.parse(line);
    const bytes = data === undefined
      ? undefined
      : Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
    return { ...event, bytes, side, seen };
  } catch {
    return { call: "log", note: line, side, script: side, time: seen, seen };
  }
}

const other = (side: Side): Side => side === "client" ? "server" : "client";
const sameBytes = (a?: Uint8Array, b?: Uint8Array) =>
  a !== undefined && b !== undefined && a.length === b.length && a.every((x, i) => x === b[i]);
/** How long the live order waits for the other side to report something earlier. */
const SETTLE_MS = 40;
/** After this long, an event whose cause never showed up is drawn anyway. */
const GIVE_UP_MS = 3_000;

/**
 * Puts events in order by cause; `onStep` gets each in turn: live, as soon as it can be drawn,
 * or else all at `finish()` (the same order, unless a live side was slow to report).
 */
export function orderByCause(onStep: (step: Step) => void, live = true): {
  /** Queues an event of one side (each side's own order is kept). */
  push(event: DemoEvent): void;
  /** `side` has exited: none of its events is still to come. */
  ended(side: Side): void;
  /** Draws what is left, causes or not. */
  finish(): void;
} {
  const queues = { client: [] as DemoEvent[], server: [] as DemoEvent[] };
  const done = { client: false, server: false };
  const emitted = new Set<DemoEvent>();
  const causeOf = new Map<DemoEvent, DemoEvent>(); // UDP: recvfrom -> its sendto
  const closed = new Set<string>(); // UDP sockets closed (no later datagram is read)
  const connKey = new Map<string, string>(); // "side #1" -> the client's address: both ends
  const sent = new Map<string, { offset: number; size: number }[]>(); // "side key" -> sends
  const finished = new Set<string>(); // "side key": shut down or closed
  // The server is stopped once the client has exited: from its listener's close on, its events
  // follow all of the client's, however early they were reported (a rule, not a clock).
  const afterEnd = new Set<DemoEvent>();
  let timer: ReturnType<typeof setTimeout> | undefined;

  const key = (e: DemoEvent) => `${e.side} ${connKey.get(`${e.side} ${e.conn}`)}`;
  const peerKey = (e: DemoEvent) => `${other(e.side)} ${connKey.get(`${e.side} ${e.conn}`)}`;
  const sentEnd = (k: string) => Math.max(0, ...(sent.get(k) ?? []).map((s) => s.offset + s.size));
  const isDatagram = (e: DemoEvent) => !e.conn && (e.call === "sendto" || e.call === "recvfrom");
  const mirrors = (send: DemoEvent, recv: DemoEvent) =>
    send.local === recv.peer && send.peer === recv.local && sameBytes(send.bytes, recv.bytes);
  const delivered = (send: DemoEvent) => [...causeOf.values()].includes(send);

  /** A UDP receive finds its send (or a send its receive) as soon as both have been read. */
  function match(e: DemoEvent) {
    if (e.call === "connect") connKey.set(`client ${e.conn}`, e.local!);
    if (e.call === "accept") connKey.set(`server ${e.conn}`, e.peer!);
    if (!isDatagram(e) || !e.bytes) return;
    const sends = e.call === "recvfrom" ? queuedOrDrawn(other(e.side), "sendto") : [e];
    const recvs = e.call === "sendto" ? queuedOrDrawn(other(e.side), "recvfrom") : [e];
    for (const recv of recvs.filter((r) => !causeOf.has(r))) {
      const send = sends.find((s) => mirrors(s, recv) && !delivered(s));
      if (send) causeOf.set(recv, send);
    }
  }
  const history = { client: [] as DemoEvent[], server: [] as DemoEvent[] };
  const queuedOrDrawn = (side: Side, call: string) =>
    history[side].filter((e) => e.call === call && !e.conn);

  /** True once what caused `e` has been drawn (a UDP send: once its fate is known). */
  function isReady(e: DemoEvent): boolean {
    if (afterEnd.has(e) && (queues.client.length > 0 || !done.client)) return false;
    if (e.call === "sendto") return delivered(e) || closed.has(e.peer!);
    if (e.call === "recvfrom" && e.bytes) return emitted.has(causeOf.get(e)!);
    if (e.call === "accept") {
      return [...emitted].some((c) => c.call === "connect" && c.local === e.peer);
    }
    if (e.call === "recv" && e.bytes?.length) {
      return sentEnd(peerKey(e)) >= e.offset! + e.bytes.length;
    }
    if (e.call === "recv") return finished.has(peerKey(e));
    return true;
  }

  function emit(e: DemoEvent) {
    emitted.add(e);
    const step: Step = { event: e };
    if (e.call === "sendto") {
      step.arrow = delivered(e) ? "wire" : closed.has(e.peer!) ? "unread" : "lost";
    }
    if (e.call === "log" && /^dropped the reply/.test(e.note ?? "")) step.arrow = "lost";
    if (e.call === "close" && !e.conn) closed.add(e.local!);
    if (e.call === "connect") step.arrow = "syn";
    if (e.call === "send") {
      step.arrow = "wire";
      sent.set(key(e), [...(sent.get(key(e)) ?? []), { offset: e.offset!, size: e.bytes!.length }]);
    }
    if ((e.call === "shutdown" || e.call === "close") && e.conn) {
      if (!finished.has(key(e))) step.arrow = "fin";
      finished.add(key(e));
    }
    if (e.call === "recv" && e.bytes?.length) step.framing = framing(e);
    onStep(step);
  }

  /** How a read relates to the sends that put its bytes on the wire: TCP keeps no boundaries. */
  function framing(e: DemoEvent): string | undefined {
    const start = e.offset!, end = start + e.bytes!.length;
    const parts = (sent.get(peerKey(e)) ?? []).filter((s) =>
      s.offset < end && s.offset + s.size > start
    );
    const whole = parts.every((s) => s.offset >= start && s.offset + s.size <= end);
    if (parts.length === 1 && whole) return undefined;
    if (whole) return `${parts.length} sends in one read`;
    return parts.length === 1 ? "part of one send" : `parts of ${parts.length} sends`;
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
      history[event.side].push(event);
      queues[event.side].push(event);
      match(event);
      if (live) drain();
    },
    ended(side) {
      done[side] = true;
      if (live) drain();
    },
    finish: () => drain(true),
  };
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

/** A layout for `columns` terminal columns, lanes named after the two scripts. */
export function layoutFor(columns: number, protocol: "udp" | "tcp", colour = false): Layout {
  const width = Math.max(60, Math.min(columns, 140)) - 1; // the last column wraps in some terminals
  const lane = Math.floor((width - 4) * 0.3); // 4: " |" and "| " around the wire
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
  const label = arrowLabel(step, width - 8);
  const dash = arrow === "unread" ? "." : "-";
  const body = (room: number) => {
    const left = Math.max(1, Math.floor((room - displayWidth(label) - 2) / 3));
    const right = Math.max(1, room - displayWidth(label) - 2 - left);
    return `${dash.repeat(left)} ${label} ${dash.repeat(right)}`;
  };
  const rightward = event.side === "client";
  if (arrow === "lost") return rightward ? `${body(width - 4)}X   ` : `   X${body(width - 4)}`;
  return rightward ? `${body(width - 1)}>` : `<${body(width - 1)}`;
}

/** What an arrow says: the bytes (size and preview), or what the handshake or FIN is. */
function arrowLabel({ event, arrow }: Step, room: number): string {
  if (arrow === "syn") return "SYN, SYN-ACK, ACK";
  if (arrow === "fin") return "FIN (end of stream)";
  if (event.call === "log") return "reply lost (--drop)";
  const size = `${event.bytes!.length.toLocaleString("en-US")} B`;
  return `${size} ${preview(event.bytes!, room - size.length - 1)}`;
}

/** The call in the post's words, and what it concerns; addresses only in the terminal. */
function laneText({ event: e, framing }: Step, addresses: boolean): string {
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
      return e.bytes ? `recvfrom${size}` : `recvfrom: ${e.note}`;
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
      return e.note ?? "";
    default:
      return e.call;
  }
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
        : call === "log"
        ? arrowLabel(step, 0)
        : step.arrow === "fin"
        ? `${text} (FIN: end of stream)`
        : `${call} ${arrowLabel(step, 40)}${step.arrow === "unread" ? " (never read)" : ""}`,
    );
    const line = { lost: "-x", unread: "--)", fin: "-)", syn: "->>", wire: "->>" };
    if (step.arrow) out.push(`    ${from}${line[step.arrow]}${to}: ${label}`);
    if (!step.arrow || call === "log") out.push(`    Note over ${from}: ${escapeMermaid(text)}`);
  }
  return out.join("\n") + "\n";
}

/** Mermaid reads `;`, `#`, quotes and angle brackets itself: entity codes (`#35;`) instead. */
export function escapeMermaid(text: string): string {
  return text.replace(/[#;"<>]/g, (c) => `#${c.charCodeAt(0)};`);
}

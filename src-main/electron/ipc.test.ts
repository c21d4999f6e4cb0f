import { describe, expect, it } from 'vitest';
import { Channels } from '../../src-shared/contract/contract';
import { SessionHost } from '../host';
import { FakeWalkService } from '../host/testing';
import { isAppPage, registerIpc, type IpcEventLike, type PortLike } from './ipc';
import { menuTemplate } from './menu';
import { until } from '../testing/wait';

type Listener = (event: IpcEventLike, ...args: unknown[]) => unknown;

function setup() {
  const walk = new FakeWalkService();
  walk.plan = { batches: 1_000_000, eventsPerBatch: 4, tickMs: 5 };
  const host = new SessionHost({
    walk,
    transport: 'electron',
    library: 'x',
    version: '0',
    log: () => undefined,
  });
  const handlers = new Map<string, Listener>();
  const listeners = new Map<string, Listener>();
  const ports: { posted: unknown[]; closed: boolean }[] = [];
  const destroyHooks: (() => void)[] = [];
  const sender = { id: 7, once: (_e: 'destroyed', l: () => void) => void destroyHooks.push(l) };
  const page = 'file:///opt/app/out/renderer/index.html';
  const event = { sender, senderFrame: { url: page } };
  const adapter = registerIpc(
    {
      handle: (c: string, l: Listener) => void handlers.set(c, l),
      removeHandler: (c: string) => void handlers.delete(c),
      on: (c: string, l: Listener) => void listeners.set(c, l),
      removeListener: (c: string) => void listeners.delete(c),
    },
    {
      host,
      isTrusted: (e) => e.sender === sender && isAppPage(e.senderFrame?.url ?? '', page),
      createChannel: () => {
        const rec = { posted: [] as unknown[], closed: false };
        ports.push(rec);
        const port1: PortLike = {
          postMessage: (m) => void rec.posted.push(m),
          start: () => undefined,
          close: () => void (rec.closed = true),
        };
        return { port1, port2: ports.length };
      },
      sendPort: () => undefined,
      log: () => undefined,
    },
  );
  const request = (name: string, params: unknown) =>
    (handlers.get(Channels.request) as Listener)(event, name, params);
  const connectPort = (e: IpcEventLike = event) =>
    (listeners.get(Channels.connectPort) as Listener)(e);
  return { walk, host, adapter, request, connectPort, ports, destroyHooks, event };
}

const start = {
  pid: 5,
  flags: 0,
  allocator: { strategy: 'heap' },
  classes: ['THREADS'],
  pace: { mode: 'run' },
  onAllocFailure: 'stop',
};

describe('Electron IPC adapter', () => {
  it('accepts only the app page of its window', () => {
    expect(
      isAppPage(
        'file:///opt/app/out/renderer/index.html#/walk',
        'file:///opt/app/out/renderer/index.html',
      ),
    ).toBe(true);
    expect(
      isAppPage(
        'file:///opt/app/out/renderer/other.html',
        'file:///opt/app/out/renderer/index.html',
      ),
    ).toBe(false);
    expect(
      isAppPage('http://127.0.0.1/index.html', 'file:///opt/app/out/renderer/index.html'),
    ).toBe(false);
    expect(isAppPage('not a url', 'file:///x')).toBe(false);
  });

  it('holds pushes until the port arrives, then delivers them in order', async () => {
    const t = setup();
    const r = (await t.request('startSession', start)) as {
      ok: boolean;
      value: { sessionId: string };
    };
    expect(r.ok).toBe(true);
    // Pushes produced before the page's port exists are held, not dropped.
    await until(
      () => (t.walk.sessions.get(r.value.sessionId)?.emitted ?? 0) > 0,
      'the walk to emit events before the page has a port',
    );
    t.connectPort();
    await until(
      () => (t.ports[0]?.posted ?? []).some((m) => (m as { name: string }).name === 'events'),
      'held events to be delivered',
    );
    const names = (t.ports[0]?.posted ?? []).map((m) => (m as { name: string }).name);
    expect(names).toContain('events');
    await t.adapter.dispose();
  });

  it('a reload (second connectPort) ends the old page’s sessions; window destruction closes it', async () => {
    const t = setup();
    t.connectPort();
    const r = (await t.request('startSession', start)) as {
      ok: boolean;
      value: { sessionId: string };
    };
    const first = t.adapter.connectionOf(7);
    t.connectPort();
    await until(() => first?.closed === true, 'the old connection to close');
    expect(first?.closed).toBe(true);
    expect(t.ports[0]?.closed).toBe(true);
    expect(t.walk.calls).toContain(`cancel ${r.value.sessionId}`);
    // The new page sees none of the old page's sessions.
    expect(await t.request('sessionSummary', { sessionId: r.value.sessionId })).toMatchObject({
      ok: false,
      error: { kind: 'not-found' },
    });
    for (const d of t.destroyHooks) d();
    await until(() => t.adapter.connectionOf(7) === null, 'the window’s connection to close');
    expect(t.adapter.connectionOf(7)).toBeNull();
    expect(t.host.connectionCount).toBe(0);
    await t.adapter.dispose();
  });

  it('ignores port requests from other senders', async () => {
    const t = setup();
    t.connectPort({
      sender: { id: 9, once: () => undefined },
      senderFrame: { url: 'https://evil.example/' },
    });
    expect(t.ports).toHaveLength(0);
    expect(t.adapter.connectionOf(9)).toBeNull();
    await t.adapter.dispose();
  });
});

describe('application menu', () => {
  const build = (dev: boolean) => {
    const calls: string[] = [];
    const menu = menuTemplate({
      dev,
      platform: 'linux',
      command: (c) => calls.push(c),
      reload: () => calls.push('reload'),
      toggleDevTools: () => calls.push('devtools'),
      quit: () => calls.push('quit'),
    });
    const items = menu.flatMap((m) => (Array.isArray(m.submenu) ? m.submenu : []));
    const click = (label: string) => {
      const item = items.find((i) => i.label === label);
      (item?.click as unknown as () => void)();
    };
    return { menu, items, calls, click };
  };

  it('has Open/Export Trace, Reload, About; DevTools only in development', () => {
    const prod = build(false);
    expect(prod.menu.map((m) => m.label)).toEqual(['File', 'Edit', 'View', 'Help']);
    expect(prod.items.some((i) => i.label === 'Toggle Developer Tools')).toBe(false);
    for (const l of ['Open Trace…', 'Export Trace…', 'Reload', 'About PSS Inspector', 'Quit'])
      prod.click(l);
    expect(prod.calls).toEqual(['openTrace', 'exportTrace', 'reload', 'about', 'quit']);
    const dev = build(true);
    dev.click('Toggle Developer Tools');
    expect(dev.calls).toEqual(['devtools']);
  });
});

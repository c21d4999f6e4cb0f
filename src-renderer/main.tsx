/** Renderer entry: mounts the app, subscribes to the host's pushes, starts the frame scheduler. */
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App';
import { openStartupTrace } from './api/actions';
import { connect } from './api/connection';
import { setSocketStarter } from './bridge';
import { startSocketWorker } from './bridge/socketWorker';
import { bridgeStoreToCanvases } from './render/storeBridge';
import { watchTheme } from './render/theme';
import { startIngest } from './session/ingest';
import { appStore } from './store';
import { endedState, hasEnded } from '../src-shared/contract/session-state';
import './styles/app.css';

function onReconnect(): void {
  // The host ends a dropped connection's sessions: keep the data on screen, mark it ended.
  const s = appStore.get();
  if (s.session && !hasEnded(s.session)) s.setSession(endedState(s.session, 'cancelled'));
  s.setBanner({
    kind: 'io',
    code: null,
    codeName: null,
    message: 'Reconnected to the host.',
    hint: 'A running walk was ended by the disconnect; its events so far stay on screen. Start it again to continue.',
  });
  s.setProcesses({ loadedAtMs: 0 });
}

const root = document.getElementById('root');
if (root) {
  // Web mode: the socket (and the receiving of event batches) runs in a worker.
  setSocketStarter(startSocketWorker);
  startIngest();
  connect(onReconnect, () => void openStartupTrace());
  watchTheme();
  bridgeStoreToCanvases();
  createRoot(root).render(
    <StrictMode>
      <App />
    </StrictMode>,
  );
}

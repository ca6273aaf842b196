const LAYERS = [
  { name: 'Application', line: 'Chats, files and statuses: what you send and read.' },
  { name: 'Transport', line: 'Segments, acknowledgements, retransmission: how it arrives whole.' },
  { name: 'Channel', line: 'The relay: the link the bytes cross, which may lose or delay them.' },
] as const;

function runtimeDescription(): string {
  const bridge = window.strata;
  if (bridge === undefined) return 'browser';
  const { electron, chrome, node } = bridge.versions;
  return `Electron ${electron} · Chromium ${chrome} · Node.js ${node} · ${bridge.platform}`;
}

export function App() {
  return (
    <div className="app">
      <header className="app-header">
        <h1 className="app-title">Strata</h1>
      </header>
      <main className="first-run">
        <h2>Three layers, all of them visible</h2>
        <p className="lead">Every message you send passes through three layers, top to bottom.</p>
        <ol className="layers">
          {LAYERS.map((layer) => (
            <li key={layer.name} className="layer">
              <span className="layer-name">{layer.name}</span>
              <span className="layer-line">{layer.line}</span>
            </li>
          ))}
        </ol>
        <p className="runtime">
          Running in: <span className="runtime-value">{runtimeDescription()}</span>
        </p>
      </main>
    </div>
  );
}

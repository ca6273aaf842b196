import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App.tsx';
import { StoreProvider, createStrataStore } from './store/index.ts';
import './styles.css';

const root = document.getElementById('root');
if (root === null) throw new Error('index.html has no #root element');

createRoot(root).render(
  <StrictMode>
    <StoreProvider store={createStrataStore()}>
      <App />
    </StoreProvider>
  </StrictMode>,
);

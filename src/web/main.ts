import './app.css';
import { mount } from 'svelte';
import App from './App.svelte';
import { AppState } from './lib/state/app.svelte.js';

const target = document.getElementById('app');
if (!target) throw new Error('index.html has no #app element');

const app = new AppState(window);
mount(App, { target, props: { app } });

if (import.meta.env.PROD && 'serviceWorker' in navigator) {
  window.addEventListener('load', () => {
    navigator.serviceWorker.register('/sw.js').catch((error: unknown) => {
      console.warn('service worker registration failed; the app works, but not offline', error);
    });
  });
}

// Entry point of the agent app.
import './app.css';
import { mount } from 'svelte';
import App from './App.svelte';
import { locale, setLanguage } from './i18n/index.svelte';

setLanguage(locale.language);
mount(App, { target: document.getElementById('app') as HTMLElement });

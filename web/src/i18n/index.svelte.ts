// The chosen language: `t()` reads it, so everything re-renders when it changes; it also sets
// `<html lang dir>`. Dates and numbers go through Intl in the same locale.
import { en, type Key } from './en';
import { ar } from './ar';
import { fa } from './fa';
import type { Language } from '../lib/types';

const catalogues = { en, ar, fa } as const;
export const languages: Language[] = ['en', 'ar', 'fa'];

function initial(): Language {
  const saved = localStorage.getItem('seam.language');
  if (saved === 'en' || saved === 'ar' || saved === 'fa') return saved;
  const browser = (navigator.language || 'en').slice(0, 2);
  return browser === 'ar' || browser === 'fa' ? browser : 'en';
}

export const locale = $state({ language: initial() as Language });

export function isRtl(language: Language): boolean {
  return language === 'ar' || language === 'fa';
}

export function setLanguage(language: Language) {
  locale.language = language;
  localStorage.setItem('seam.language', language);
  document.documentElement.lang = language;
  document.documentElement.dir = isRtl(language) ? 'rtl' : 'ltr';
}

export function t(key: Key, values: Record<string, string | number> = {}): string {
  const text: string = catalogues[locale.language][key] ?? en[key];
  return text.replace(/\{(\w+)\}/g, (whole, name: string) =>
    name in values ? String(values[name]) : whole,
  );
}

/** The Intl locale is the language itself: CLDR gives Persian the Solar Hijri calendar and
 *  Persian digits, and Arabic its own month names and separators. */
function intlLocale(): string {
  return locale.language;
}

/** Intl formatters cost far more to make than to use: one per language and style. */
const formatters = new Map<string, Intl.DateTimeFormat | Intl.NumberFormat>();

function dateFormat(style: 'time' | 'dateTime'): Intl.DateTimeFormat {
  const key = `${intlLocale()} ${style}`;
  let format = formatters.get(key) as Intl.DateTimeFormat | undefined;
  if (!format) {
    format = new Intl.DateTimeFormat(
      intlLocale(),
      style === 'time' ? { hour: 'numeric', minute: '2-digit' } : { dateStyle: 'medium', timeStyle: 'short' },
    );
    formatters.set(key, format);
  }
  return format;
}

function numberFormat(name: string, options: Intl.NumberFormatOptions): Intl.NumberFormat {
  const key = `${intlLocale()} ${name}`;
  let format = formatters.get(key) as Intl.NumberFormat | undefined;
  if (!format) {
    format = new Intl.NumberFormat(intlLocale(), options);
    formatters.set(key, format);
  }
  return format;
}

/** Today's bounds in local time, worked out again once the day is over. */
let today = { start: 0, end: 0 };

function isToday(time: number): boolean {
  const now = Date.now();
  if (now >= today.end) {
    const midnight = new Date(now);
    midnight.setHours(0, 0, 0, 0);
    const next = new Date(midnight);
    next.setDate(next.getDate() + 1);
    today = { start: midnight.getTime(), end: next.getTime() };
  }
  return time >= today.start && time < today.end;
}

/** A time today, or a date and time on other days. */
export function formatTime(iso: string | null | undefined): string {
  if (!iso) return '';
  const time = Date.parse(iso);
  return dateFormat(isToday(time) ? 'time' : 'dateTime').format(time);
}

export function formatDateTime(iso: string | null | undefined): string {
  if (!iso) return '';
  return dateFormat('dateTime').format(new Date(iso));
}

export function formatNumber(value: number): string {
  return numberFormat('number', {}).format(value);
}

/** An amount in a currency (ISO 4217 code), or the amount as given when the code is unknown. */
export function formatMoney(amount: string, currency: string | null): string {
  const value = Number(amount);
  if (!currency || !Number.isFinite(value)) return [amount, currency].filter(Boolean).join(' ');
  try {
    return numberFormat(`money ${currency}`, { style: 'currency', currency }).format(value);
  } catch {
    return `${amount} ${currency}`;
  }
}

export function formatBytes(bytes: number): string {
  const units = ['byte', 'kilobyte', 'megabyte', 'gigabyte'] as const;
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return numberFormat(units[unit], {
    style: 'unit',
    unit: units[unit],
    unitDisplay: 'short',
    maximumFractionDigits: unit === 0 ? 0 : 1,
  }).format(value);
}

export type { Key };

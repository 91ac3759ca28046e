// What each channel kind needs to be created: its settings and credentials, exactly as core
// checks them (core/src/channel.rs, messaging.rs validate_config / validate_credentials,
// email/settings.rs, webchat/config.rs). Voice channels are not available yet.

import type { ChannelKind } from '../../lib/types';
import type { Key } from '../../i18n/en';

export interface FieldSpec {
  key: string;
  label: Key;
  place: 'config' | 'credentials';
  required: boolean;
  input: 'text' | 'url' | 'email' | 'password' | 'lines' | 'textarea' | 'locale';
}

const field = (
  key: string,
  place: FieldSpec['place'],
  required: boolean,
  input: FieldSpec['input'] = place === 'credentials' ? 'password' : 'text',
): FieldSpec => ({ key, label: `field.${key}` as Key, place, required, input });

export const creatableKinds: ChannelKind[] = [
  'api', 'email', 'webchat', 'whatsapp', 'messenger', 'instagram', 'telegram', 'line', 'sms',
];

export function fieldsOf(kind: ChannelKind, provider: 'cloud' | 'twilio'): FieldSpec[] {
  switch (kind) {
    case 'api':
      return [field('webhook_url', 'config', false, 'url')];
    case 'email':
      return [field('address', 'config', true, 'email'), field('from_name', 'config', false), field('signature', 'config', false, 'textarea')];
    case 'webchat':
      return [field('allowed_origins', 'config', true, 'lines'), field('greeting', 'config', false, 'textarea'), field('locale', 'config', false, 'locale')];
    case 'whatsapp':
      return provider === 'twilio'
        ? [field('account_sid', 'config', true), field('from', 'config', false), field('messaging_service_sid', 'config', false), field('auth_token', 'credentials', true)]
        : [field('phone_number_id', 'config', true), field('access_token', 'credentials', true), field('app_secret', 'credentials', true)];
    case 'messenger':
      return [field('page_id', 'config', true), field('page_access_token', 'credentials', true), field('app_secret', 'credentials', true)];
    case 'instagram':
      return [field('instagram_account_id', 'config', true), field('page_access_token', 'credentials', true), field('app_secret', 'credentials', true)];
    case 'telegram':
      return [field('bot_username', 'config', false), field('bot_token', 'credentials', true)];
    case 'line':
      return [field('channel_access_token', 'credentials', true), field('channel_secret', 'credentials', true)];
    case 'sms':
      return [field('account_sid', 'config', true), field('from', 'config', false), field('messaging_service_sid', 'config', false), field('auth_token', 'credentials', true)];
    default:
      return [];
  }
}

export function widgetSnippet(channelId: string): string {
  return `<script src="${location.origin}/widget.js" data-channel="${channelId}" async></script>`;
}

/** Kinds whose settings and credentials may change after creation (the others: the name). */
export function isMessaging(kind: ChannelKind): boolean {
  return ['whatsapp', 'messenger', 'instagram', 'telegram', 'line', 'sms'].includes(kind);
}

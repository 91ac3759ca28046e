// The shapes the API answers with (GET /api/openapi.json describes each one).

export type Uuid = string;
export type Language = 'en' | 'ar' | 'fa';
export type Role = 'owner' | 'admin' | 'supervisor' | 'agent';
export type Presence = 'online' | 'away' | 'offline';

export interface User {
  id: Uuid;
  email: string;
  name: string;
  role: Role;
  language?: Language | null;
  /** What the user chose: online or away. */
  availability?: Exclude<Presence, 'offline'>;
  /** What others see: the choice while a realtime connection is open, else offline. */
  presence?: Presence;
}

export interface Workspace {
  id: Uuid;
  name: string;
  default_region: string;
  time_zone: string;
  languages: Language[];
  continuity: 'customer' | 'channel';
  reopen_window_secs: number;
}

export interface List<T> {
  items: T[];
  next_cursor: string | null;
}

export type ConversationStatus = 'open' | 'pending' | 'snoozed' | 'resolved';
export type Priority = 'none' | 'low' | 'medium' | 'high' | 'urgent';

export interface Preview {
  text: string;
  kind: 'inbound' | 'outbound';
  channel_id: Uuid | null;
  at: string;
}

export interface Conversation {
  id: Uuid;
  workspace_id: Uuid;
  customer_id: Uuid;
  status: ConversationStatus;
  priority: Priority;
  assignee_id: Uuid | null;
  team_id: Uuid | null;
  labels: string[];
  last_channel_id: Uuid | null;
  last_activity_at: string;
  waiting_since: string | null;
  snoozed_until: string | null;
  resolved_at: string | null;
  created_at: string;
  updated_at: string;
  customer_name?: string | null;
  preview?: Preview | null;
  unread?: boolean;
}

export type MessageKind = 'inbound' | 'outbound' | 'note' | 'activity';
export type DeliveryStatus = 'queued' | 'sent' | 'delivered' | 'read' | 'failed';

export interface Attachment {
  id: Uuid;
  file_name: string;
  content_type: string;
  size_bytes: number;
  inline: boolean;
  url: string;
}

export interface EmailPart {
  message_id: string;
  subject: string | null;
  html: string | null;
  remote_images: boolean;
  full_text: string;
  automated: string | null;
  warning: string | null;
}

export interface Message {
  id: Uuid;
  conversation_id: Uuid;
  customer_id: Uuid;
  kind: MessageKind;
  channel_id: Uuid | null;
  identity: string | null;
  author_id: Uuid | null;
  text: string;
  delivery_status: DeliveryStatus | null;
  delivery_error: string | null;
  sent_at: string;
  created_at: string;
  email?: EmailPart;
  attachments?: Attachment[];
}

export type ChannelKind =
  | 'api' | 'email' | 'webchat' | 'whatsapp' | 'messenger' | 'instagram' | 'telegram' | 'line' | 'sms' | 'voice';

export interface Channel {
  id: Uuid;
  kind: ChannelKind;
  name: string;
  config: Record<string, unknown>;
  hook_url?: string;
  credential_names?: string[];
  created_at: string;
}

export interface CreatedChannel extends Channel {
  secret?: string;
  inbound_url?: string;
}

export interface ReplyChannel {
  channel_id: Uuid;
  kind: ChannelKind;
  name: string;
  available: boolean;
  reason: null | { code: string; message: string };
}

export interface Identity {
  kind: string;
  value: string;
  verified: boolean;
  source: string;
  created_at: string;
}

export interface Consent {
  channel_kind: string;
  status: 'opted_in' | 'opted_out' | 'unknown';
  source: string | null;
  updated_at: string | null;
}

export interface Customer {
  id: Uuid;
  name: string | null;
  merged_into_id: Uuid | null;
  locale: string | null;
  time_zone: string | null;
  tags: string[];
  attributes: Record<string, unknown>;
  identities: Identity[];
  consents: Consent[];
  created_at: string;
}

export interface CustomerStats {
  first_seen_at: string | null;
  last_seen_at: string | null;
  conversations_open: number;
  conversations_total: number;
  orders_count: number;
}

/** `GET /api/v1/customers/{id}`: the profile with its computed fields beside it. */
export type CustomerDetail = Customer & { stats: CustomerStats };

export interface Order {
  order_id: string;
  status: string;
  total: string | null;
  currency: string | null;
  placed_at: string | null;
  status_at: string;
}

export interface Return {
  return_id: string;
  order_id: string | null;
  status: string;
  status_at: string;
}

export interface Orders {
  orders: Order[];
  returns: Return[];
}

export interface Merge {
  id: Uuid;
  survivor_id: Uuid;
  absorbed_id: Uuid;
  undone_at: string | null;
}

export interface Upload {
  id: Uuid;
  file_name: string;
  content_type: string;
  size_bytes: number;
}

export type TimelineItem = ({ type: 'message' } & Message) | { type: 'event'; id: Uuid; name: string };

// Hash routing (`#/inbox`, `#/conversations/<id>`, `#/customers/<id>`, `#/admin/channels` …),
// so the server only serves `/` and `/assets/*`.

export type Route =
  | { name: 'inbox'; conversationId: string | null }
  | { name: 'customer'; customerId: string }
  | { name: 'admin'; section: 'channels' | 'users' | 'workspace' };

function parse(hash: string): Route {
  const parts = hash.replace(/^#\/?/, '').split('/').filter(Boolean);
  if (parts[0] === 'conversations' && parts[1]) return { name: 'inbox', conversationId: parts[1] };
  if (parts[0] === 'customers' && parts[1]) return { name: 'customer', customerId: parts[1] };
  if (parts[0] === 'admin') {
    const section = parts[1] === 'users' || parts[1] === 'workspace' ? parts[1] : 'channels';
    return { name: 'admin', section };
  }
  return { name: 'inbox', conversationId: null };
}

export const router = $state({ route: parse(location.hash) as Route });

window.addEventListener('hashchange', () => {
  router.route = parse(location.hash);
});

export function go(path: string) {
  location.hash = '#' + path;
}

// Apollo Server installs its cache-control plugin unless told otherwise: a hook on every field of
// every answer (a cache policy built per field: a journey's paths, hops and trace steps are a
// thousand fields) only to send `cache-control: no-store` in the end, since no type or field of
// this schema sets a cache hint. The plugin is disabled and the header sent as before.
import type { ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginCacheControlDisabled } from '@apollo/server/plugin/disabled';

const noStore: ApolloServerPlugin = {
  requestDidStart() {
    return Promise.resolve({
      willSendResponse({ response }) {
        response.http.headers.set('cache-control', 'no-store');
        return Promise.resolve();
      },
    });
  },
};

/** GraphQL answers are never cached (they depend on the caller's token and on the stored snapshots). */
export const noStorePlugins: ApolloServerPlugin[] = [ApolloServerPluginCacheControlDisabled(), noStore];

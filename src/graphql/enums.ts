import { registerEnumType } from '@nestjs/graphql';
import { SnapshotStatus } from '../database/entities/index.js';
import { ProxyType } from '../model/proxy.js';

registerEnumType(SnapshotStatus, { name: 'SnapshotStatus' });
registerEnumType(ProxyType, { name: 'ProxyType' });

// GraphQL types import the enums from here, so that they are registered before the schema is built.
export { ProxyType, SnapshotStatus };

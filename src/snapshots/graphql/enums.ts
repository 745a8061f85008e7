import { registerEnumType } from '@nestjs/graphql';
import { ProxyType, SnapshotStatus } from '../../database/entities/index.js';

registerEnumType(SnapshotStatus, { name: 'SnapshotStatus' });
registerEnumType(ProxyType, { name: 'ProxyType' });

export { ProxyType, SnapshotStatus };

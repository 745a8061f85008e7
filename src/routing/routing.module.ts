import { Module } from '@nestjs/common';
import { ProxyConfigModule } from '../proxy-config/proxy-config.module.js';
import { RoutingResolver } from './graphql/routing.resolver.js';
import { RoutingService } from './routing.service.js';

@Module({ imports: [ProxyConfigModule], providers: [RoutingService, RoutingResolver], exports: [RoutingService] })
export class RoutingModule {}

import { Module } from '@nestjs/common';
import { ProxyConfigModule } from '../proxy-config/proxy-config.module.js';
import { RoutingResolver } from './graphql/routing.resolver.js';

@Module({ imports: [ProxyConfigModule], providers: [RoutingResolver] })
export class RoutingModule {}

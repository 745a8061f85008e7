import { Module } from '@nestjs/common';
import { ProxyConfigModule } from '../proxy-config/proxy-config.module.js';
import { RoutingModule } from '../routing/routing.module.js';
import { JourneyController } from './journey.controller.js';
import { JourneyResolver } from './journey.resolver.js';
import { JourneyService } from './journey.service.js';

@Module({ imports: [ProxyConfigModule, RoutingModule], providers: [JourneyService, JourneyResolver], controllers: [JourneyController] })
export class JourneyModule {}

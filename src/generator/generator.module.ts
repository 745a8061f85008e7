import { Global, Module } from '@nestjs/common';
import { AdmissionService } from './admission.service.js';
import { GeneratorService } from './generator.service.js';

@Global()
@Module({ providers: [GeneratorService, AdmissionService], exports: [GeneratorService, AdmissionService] })
export class GeneratorModule {}

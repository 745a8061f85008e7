import { Module } from '@nestjs/common';
import { MeshesController } from './meshes.controller.js';
import { MeshesResolver } from './meshes.resolver.js';
import { MeshesService } from './meshes.service.js';

@Module({ controllers: [MeshesController], providers: [MeshesService, MeshesResolver] })
export class MeshesModule {}

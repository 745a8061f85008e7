import type { MigrationInterface } from 'typeorm';
import { Init1795269387246 } from './1795269387246-Init.js';

// Listed explicitly (not globbed) so the same list works from sources, swc output and the CLI.
export const MIGRATIONS: (new () => MigrationInterface)[] = [Init1795269387246];

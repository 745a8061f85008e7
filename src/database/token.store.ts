import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

/** An access token as stored: never the token itself, only its hash. */
export interface StoredToken {
  id: string;
  name: string | null;
  scopes: string[];
  /** null: every mesh. */
  meshes: string[] | null;
  createdAt: Date;
  expiresAt: Date | null;
  revokedAt: Date | null;
}

interface TokenRow {
  id: string;
  name: string | null;
  scopes: string[];
  meshes: string[] | null;
  created_at: Date;
  expires_at: Date | null;
  revoked_at: Date | null;
}

const COLUMNS = 'id, name, scopes, meshes, created_at, expires_at, revoked_at';

/** Access tokens: every SQL statement about them. */
@Injectable()
export class TokenStore {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async create(token: {
    hash: Buffer;
    name: string | null;
    scopes: string[];
    meshes: string[] | null;
    expiresAt: Date | null;
  }): Promise<StoredToken> {
    const [row]: TokenRow[] = await this.dataSource.query(
      `INSERT INTO access_tokens (hash, name, scopes, meshes, expires_at) VALUES ($1, $2, $3, $4, $5) RETURNING ${COLUMNS}`,
      [token.hash, token.name, token.scopes, token.meshes, token.expiresAt],
    );
    return fromRow(row);
  }

  /** The token with this hash, whatever its state (revoked, expired): the caller decides. */
  async byHash(hash: Buffer): Promise<StoredToken | null> {
    const [row]: TokenRow[] = await this.dataSource.query(`SELECT ${COLUMNS} FROM access_tokens WHERE hash = $1`, [hash]);
    return row ? fromRow(row) : null;
  }

  /** Every token, newest first. */
  async list(): Promise<StoredToken[]> {
    const rows: TokenRow[] = await this.dataSource.query(`SELECT ${COLUMNS} FROM access_tokens ORDER BY created_at DESC, id DESC`);
    return rows.map(fromRow);
  }

  /** Revokes the token; false when there is no token with this id (or it was revoked already). */
  async revoke(id: string): Promise<boolean> {
    if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id)) return false;
    const [, count] = await this.dataSource.query<[unknown[], number]>(
      'UPDATE access_tokens SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL',
      [id],
    );
    return count > 0;
  }
}

function fromRow(row: TokenRow): StoredToken {
  return {
    id: row.id,
    name: row.name,
    scopes: row.scopes,
    meshes: row.meshes,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    revokedAt: row.revoked_at,
  };
}

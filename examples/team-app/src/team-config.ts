import { Injectable, Module } from '@nestjs/common';

/** The team's own configuration service (in a real app: @nestjs/config's ConfigService). */
@Injectable()
export class TeamConfig {
  readonly jwtSecret = process.env.TEAM_JWT_SECRET ?? 'team-app-secret-that-is-at-least-32-bytes';
  readonly sqlitePath = process.env.TEAM_SQLITE_PATH ?? './data/team.db';
  readonly apiKey = process.env.TEAM_API_KEY;
  readonly bannedWords = ['spam', 'scam'];
}

@Module({ providers: [TeamConfig], exports: [TeamConfig] })
export class TeamConfigModule {}

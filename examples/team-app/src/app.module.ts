import { Module } from '@nestjs/common';
import { HandshakeAuthenticator, HubbubModule, MessageHooks } from 'hubbub';
import { HeaderAuthenticator } from './header.authenticator';
import { PollGateway } from './poll.gateway';
import { TeamConfig, TeamConfigModule } from './team-config';
import { WordFilterHooks } from './word-filter.hooks';

@Module({ providers: [PollGateway] })
export class PollModule {}

/** The team's application: Hubbub is one import among theirs. */
@Module({
  imports: [
    HubbubModule.forRootAsync(
      {
        imports: [TeamConfigModule],
        inject: [TeamConfig],
        useFactory: (config: TeamConfig) => ({
          jwtSecret: config.jwtSecret,
          sqlitePath: config.sqlitePath,
          apiKey: config.apiKey,
          logLevel: 'warn',
          // Hubbub's slow-client protection, at sizes a test can reach: past 64 connections that have not sent
          // their request, the oldest are cut (a fresh burst never is); a long handshake timeout leaves that to the cap.
          maxPendingConnections: 64,
          handshakeTimeoutMs: 60_000,
        }),
        // Routes are off unless enabled: this team wants Hubbub's health checks and its server API, nothing else.
        http: { health: true, api: true },
      },
      {
        imports: [PollModule, TeamConfigModule],
        providers: [
          { provide: HandshakeAuthenticator, useClass: HeaderAuthenticator },
          { provide: MessageHooks, useClass: WordFilterHooks },
        ],
      },
    ),
  ],
})
export class TeamAppModule {}

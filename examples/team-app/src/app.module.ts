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

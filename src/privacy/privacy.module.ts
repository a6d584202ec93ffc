import { Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { LifecycleModule } from '../lifecycle/lifecycle.module';
import { MessagesPart } from './messages.part';
import { PresencePart } from './presence.part';
import { ReactionsPart } from './reactions.part';
import { RetentionSweeper } from './retention-sweeper';
import { USER_DATA_PARTS } from './user-data';
import { UserDataParts } from './user-data-parts';
import { UserErasureService } from './user-erasure.service';
import { UserExportService } from './user-export.service';

/**
 * The data of a person and how long it is kept: the export and the erasure of a person over every UserDataPart
 * of the app (USER_DATA_PARTS: each feature marks its part `@UserData()`; this module provides the messages', the
 * reactions' and the presence's), and the retention sweep (RoomRetention, provided by HubbubModule like the other seams, says how
 * long a room keeps its messages: a room's own setting, else RETENTION_DAYS).
 */
@Module({
  imports: [DiscoveryModule, LifecycleModule],
  providers: [
    MessagesPart,
    PresencePart,
    ReactionsPart,
    UserDataParts,
    {
      provide: USER_DATA_PARTS,
      inject: [UserDataParts],
      useFactory: (r: UserDataParts) => r.parts,
    },
    UserErasureService,
    UserExportService,
    RetentionSweeper,
  ],
  exports: [USER_DATA_PARTS, UserErasureService, UserExportService, RetentionSweeper],
})
export class PrivacyModule {}

import type { Type } from '@nestjs/common';
import { ApiController } from './api.controller';
import { ChannelsApiController } from './channels-api.controller';
import { DashboardApiController } from './dashboard-api.controller';
import { DashboardModerationController } from './dashboard-moderation.controller';
import { MessagesApiController } from './messages-api.controller';
import { ModerationApiController } from './moderation-api.controller';
import { UnreadApiController } from './unread-api.controller';
import { PrivacyApiController } from './privacy-api.controller';

/** The controllers of the server API (`/api/*`): mounted by `http.api`, described by the OpenAPI document. */
export const API_CONTROLLERS: Type[] = [
  ApiController,
  DashboardApiController,
  ChannelsApiController,
  ModerationApiController,
  DashboardModerationController,
  MessagesApiController,
  UnreadApiController,
  PrivacyApiController,
];

import { abdomen } from './abdomen.js'
import { axilla } from './axilla.js'
import { chest } from './chest.js'
import { neck } from './neck.js'
import { pelvis } from './pelvis.js'
import { SiteModel, SiteName } from './site.js'

export const SITE_MODELS: Record<SiteName, SiteModel> = { neck, axilla, chest, abdomen, pelvis }

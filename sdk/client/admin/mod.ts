export { Admin, type NewTopic, type TopicInfo } from './admin.ts';

// The words of consent: message requests (someone we never wrote to), blocking, and files
// that wait for the user (from a request, or over the auto-download size).
export const strings = {
  en: {
    'request.title': '{name} is not in your contacts',
    'request.body':
      'This is a message request. Until you accept it, {name}’s files are not downloaded and {name} does not see when you read their messages or when you are online.',
    'request.accept': 'Accept',
    'request.block': 'Block',
    'request.delete': 'Delete',
    'request.badge': 'Request',
    'request.blockedBadge': 'Blocked',
    'request.blocked': 'You blocked {name}: their new messages are dropped and files refused.',
    'request.unblock': 'Unblock',
    'request.failed': 'That did not work: {detail}',
    'file.state.waiting': 'Waiting',
    'file.waitingRequest': 'Downloads when you accept {name}',
    'file.waitingSize': 'Larger than the auto-download size: download it?',
    'file.waitingPeer': 'Waiting for {name} to take it',
    'file.downloadNow': 'Download',
    'file.downloadFailed': 'The file could not be downloaded: {detail}',
    'settings.autoDownloadMb': 'Download by themselves up to, MB',
    'settings.autoDownloadMbHint':
      'Files from your contacts up to this size are downloaded as they arrive; a larger one waits for a click. Files from message requests always wait.',
  },
  ru: {
    'request.title': '{name} нет в ваших контактах',
    'request.body':
      'Это запрос на переписку. Пока вы его не примете, файлы от {name} не скачиваются, а {name} не видит, когда вы прочитали сообщения и когда вы в сети.',
    'request.accept': 'Принять',
    'request.block': 'Заблокировать',
    'request.delete': 'Удалить',
    'request.badge': 'Запрос',
    'request.blockedBadge': 'Заблокирован',
    'request.blocked':
      'Вы заблокировали {name}: новые сообщения отбрасываются, файлы не принимаются.',
    'request.unblock': 'Разблокировать',
    'request.failed': 'Не получилось: {detail}',
    'file.state.waiting': 'Ожидает',
    'file.waitingRequest': 'Скачается, когда вы примете {name}',
    'file.waitingSize': 'Больше размера автозагрузки: скачать?',
    'file.waitingPeer': 'Ждёт, когда {name} примет файл',
    'file.downloadNow': 'Скачать',
    'file.downloadFailed': 'Не удалось скачать файл: {detail}',
    'settings.autoDownloadMb': 'Скачивать сами файлы до, МБ',
    'settings.autoDownloadMbHint':
      'Файлы от ваших контактов до этого размера скачиваются сразу; файл больше ждёт нажатия. Файлы из запросов на переписку всегда ждут.',
  },
} as const;

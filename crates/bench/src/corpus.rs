//! Message texts of 50–500 characters in English, Arabic and Persian.

use rand::{Rng, seq::IndexedRandom};

const ENGLISH: &[&str] = &[
    "Hello, my order has not arrived yet and the tracking page has not changed for three days.",
    "Could you tell me how to return an item that arrived damaged?",
    "I was charged twice for the same order, please check my payment.",
    "Is the blue model back in stock, and can I reserve one?",
];
const ARABIC: &[&str] = &[
    "مرحباً، طلبي لم يصل حتى الآن وصفحة التتبع لم تتغير منذ ثلاثة أيام.",
    "كيف يمكنني إرجاع منتج وصل تالفاً؟",
    "تم خصم المبلغ مرتين لنفس الطلب، أرجو التحقق من الدفع.",
    "هل الطراز الأزرق متوفر مرة أخرى، وهل يمكن حجزه؟",
];
const PERSIAN: &[&str] = &[
    "سلام، سفارش من هنوز نرسیده و صفحه رهگیری سه روز است تغییری نکرده.",
    "چطور می‌توانم کالایی را که آسیب‌دیده رسیده مرجوع کنم؟",
    "برای یک سفارش دو بار از حسابم پول کسر شده، لطفاً بررسی کنید.",
    "آیا مدل آبی دوباره موجود شده و می‌شود رزرو کرد؟",
];

/// A text of 50 to 500 characters in one of the three languages.
pub fn text(rng: &mut impl Rng) -> String {
    let pool = [ENGLISH, ARABIC, PERSIAN][rng.random_range(0..3)];
    let target = rng.random_range(50..=500);
    let mut text = String::new();
    while text.chars().count() < target {
        if !text.is_empty() {
            text.push(' ');
        }
        text.push_str(pool.choose(rng).copied().unwrap_or("Hello"));
    }
    text.chars().take(target).collect()
}

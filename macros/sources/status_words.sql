{#-
    Order status words. Shops export their own words (Shopify's financial_status `paid`,
    WooCommerce's `processing`, Magento's `complete`): each is mapped to what shopseg
    needs, completed (a purchase), cancelled, returned, or pending (not paid yet: left out
    of the purchase features, counted). The var shop_status_map adds words or remaps these
    defaults ({word: class}); words are compared lower-cased, trimmed, with spaces and
    dashes read as underscores. A null status is completed.
-#}
{% macro shop_default_status_map() %}
    {{ return({
        'completed': 'completed', 'complete': 'completed', 'paid': 'completed',
        'fulfilled': 'completed', 'shipped': 'completed', 'delivered': 'completed',
        'processing': 'completed', 'partially_paid': 'completed',
        'partially_refunded': 'completed', 'partially_fulfilled': 'completed',
        'succeeded': 'completed', 'success': 'completed',
        'cancelled': 'cancelled', 'canceled': 'cancelled', 'voided': 'cancelled',
        'void': 'cancelled', 'failed': 'cancelled', 'declined': 'cancelled',
        'expired': 'cancelled', 'rejected': 'cancelled', 'fraud': 'cancelled',
        'returned': 'returned', 'refunded': 'returned',
        'pending': 'pending', 'pending_payment': 'pending', 'on_hold': 'pending',
        'payment_review': 'pending', 'holded': 'pending', 'draft': 'pending',
        'checkout_draft': 'pending', 'authorized': 'pending',
    }) }}
{% endmacro %}


{% macro shop_status_classes() %}
    {{ return(['completed', 'cancelled', 'returned', 'pending']) }}
{% endmacro %}


{% macro shop_normalise_status_word(word) %}
    {{ return(word | string | trim | lower | replace(' ', '_') | replace('-', '_')) }}
{% endmacro %}


{#- The defaults with the var shop_status_map over them, keys normalised, classes checked. -#}
{% macro shop_status_map() %}
    {%- set mapping = {} -%}
    {%- for word, status_class in shop_default_status_map().items() -%}
        {%- do mapping.update({word: status_class}) -%}
    {%- endfor -%}
    {%- set custom = var('shop_status_map', none) or {} -%}
    {%- if custom is not mapping -%}
        {{ exceptions.raise_compiler_error(
            "shopseg: var shop_status_map must map status words to classes, e.g. "
            ~ "{paid: completed}; got '" ~ custom ~ "'") }}
    {%- endif -%}
    {%- for word, status_class in custom.items() -%}
        {%- set status_class = status_class | string | trim | lower -%}
        {%- if status_class not in shop_status_classes() -%}
            {{ exceptions.raise_compiler_error(
                "shopseg: var shop_status_map: '" ~ word ~ "' maps to '" ~ status_class
                ~ "', which is not one of " ~ shop_status_classes() | join(', ')) }}
        {%- endif -%}
        {%- do mapping.update({shop_normalise_status_word(word): status_class}) -%}
    {%- endfor -%}
    {{ return(mapping) }}
{% endmacro %}


{#- SQL: the input word normalised like the map's keys. -#}
{% macro shop_status_word_sql(column) -%}
    replace(replace(lower(trim(cast({{ column }} as {{ dbt.type_string() }}))), ' ', '_'), '-', '_')
{%- endmacro %}


{#- SQL: the class of a status word; null is completed, a word the map lacks is 'unmapped'. -#}
{% macro shop_status_class_sql(column) -%}
    {%- set by_class = {} -%}
    {%- for word, status_class in shop_status_map().items() | sort -%}
        {%- do by_class.setdefault(status_class, []).append("'" ~ shop_escape_string(word) ~ "'") -%}
    {%- endfor -%}
    case
        when {{ column }} is null then 'completed'
        {%- for status_class, words in by_class.items() | sort %}
        when {{ shop_status_word_sql(column) }} in ({{ words | join(', ') }}) then '{{ status_class }}'
        {%- endfor %}
        else 'unmapped'
    end
{%- endmacro %}


{#-
    Status words the map lacks: above the share shop_max_unmapped_status_share of the orders
    the build stops with one line naming them with their counts; below it they are left
    out of the features and counted in data_quality_issues.
-#}
{% macro shop_check_status_words(relation, label) %}
    {%- if not execute or target.name == 'lint' -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set max_share = shop_number('shop_max_unmapped_status_share', 0.01) -%}
    {%- set words = run_query(
        "select " ~ shop_status_word_sql('status') ~ " as word, count(*) as orders "
        ~ "from " ~ relation ~ " group by 1 order by 2 desc, 1") -%}
    {%- set mapping = shop_status_map() -%}
    {%- set unmapped = [] -%}
    {%- set totals = {'all': 0, 'unmapped': 0} -%}
    {%- for word, orders in words.rows -%}
        {%- do totals.update({'all': totals['all'] + orders}) -%}
        {%- if word is not none and word not in mapping -%}
            {%- do unmapped.append("'" ~ word ~ "' (" ~ orders ~ ")") -%}
            {%- do totals.update({'unmapped': totals['unmapped'] + orders}) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if totals['unmapped'] == 0 -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set share = totals['unmapped'] / totals['all'] -%}
    {%- set listed = unmapped[:10] | join(', ') ~ (', ...' if unmapped | length > 10 else '') -%}
    {%- if share > max_share -%}
        {{ exceptions.raise_compiler_error(
            "shopseg: input " ~ label ~ ": column status has words shop_status_map does not map: "
            ~ listed ~ ", " ~ totals['unmapped'] ~ " of " ~ totals['all'] ~ " orders ("
            ~ '%.1f' | format(100 * share) ~ "%, above shop_max_unmapped_status_share = "
            ~ max_share ~ "): map each to completed, cancelled, returned or pending with the "
            ~ "var shop_status_map, e.g. {" ~ unmapped[0].split("'")[1] ~ ": completed}") }}
    {%- endif -%}
    {{ log("shopseg: input " ~ label ~ ": " ~ totals['unmapped'] ~ " orders have status words "
        ~ "shop_status_map does not map (" ~ listed ~ "): left out, counted in data_quality_issues",
        info=true) }}
{% endmacro %}
